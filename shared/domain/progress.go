package domain

// TaskState is where one task stands for one enrollment.
type TaskState string

// Task states, from the latest submission version.
const (
	TaskNotStarted       TaskState = "not_started"
	TaskSubmitted        TaskState = "submitted"
	TaskChangesRequested TaskState = "changes_requested"
	TaskAccepted         TaskState = "accepted"
)

// TaskProgress is one task's state for one enrollment.
type TaskProgress struct {
	TaskID   string
	Required bool
	State    TaskState
	// LatestVersion is the latest submission's version, 0 for none.
	LatestVersion int
}

// Progress is an enrollment's standing on its program's tasks.
type Progress struct {
	RequiredTotal    int
	RequiredAccepted int
	OptionalTotal    int
	OptionalAccepted int
	// Tasks follows the order of the tasks given to ComputeProgress.
	Tasks []TaskProgress
}

// ComputeProgress derives progress from the program's tasks and one
// enrollment's submissions (any versions, any order): a task counts as
// accepted when its latest version is accepted. Submissions for tasks not
// listed are ignored.
func ComputeProgress(tasks []Task, subs []Submission) Progress {
	latest := LatestSubmissions(subs)
	pr := Progress{Tasks: make([]TaskProgress, 0, len(tasks))}
	for _, t := range tasks {
		tp := TaskProgress{TaskID: t.ID, Required: t.Required, State: TaskNotStarted}
		if s, ok := latest[t.ID]; ok {
			tp.LatestVersion = s.Version
			switch s.Status {
			case SubmissionAccepted:
				tp.State = TaskAccepted
			case SubmissionChangesRequested:
				tp.State = TaskChangesRequested
			default:
				tp.State = TaskSubmitted
			}
		}
		accepted := tp.State == TaskAccepted
		switch {
		case t.Required:
			pr.RequiredTotal++
			if accepted {
				pr.RequiredAccepted++
			}
		default:
			pr.OptionalTotal++
			if accepted {
				pr.OptionalAccepted++
			}
		}
		pr.Tasks = append(pr.Tasks, tp)
	}
	return pr
}

// Complete is the completion rule: every required task accepted, and at
// least one required task (a program without any never completes by
// itself; Publish refuses such a program anyway).
func (p Progress) Complete() bool {
	return p.RequiredTotal > 0 && p.RequiredAccepted == p.RequiredTotal
}

// Percent is the share of required tasks accepted, 0..100, rounded down
// (100 only when complete).
func (p Progress) Percent() int {
	if p.RequiredTotal == 0 {
		return 0
	}
	return p.RequiredAccepted * 100 / p.RequiredTotal
}
