// Command rawruntime speaks the Lambda Runtime API by hand (standard library
// only), to misbehave in ways aws-lambda-go never does. MODE selects how:
//
//	init-exit    print a message and exit 3 before asking for an event
//	init-panic   panic before asking for an event
//	init-report  post /init/error, then hang until killed
//	init-hang    never ask for an event
//	exit-error   answer the event with a Runtime.ExitError, then hang
//	skip         ask for the next event without answering the first
//	protocol     break the rules the runtime API must refuse, and report
//	             the status codes it got
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

var base = "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/"

func main() {
	switch mode := os.Getenv("MODE"); mode {
	case "init-exit":
		fmt.Fprintln(os.Stderr, "TABLE_NAME is not set")
		os.Exit(3)
	case "init-panic":
		panic("init boom")
	case "init-report":
		post("init/error", "Runtime.InitError", `{"errorMessage":"cannot load config","errorType":"ConfigError"}`)
		hang()
	case "init-hang":
		hang()
	case "exit-error":
		id, _ := next()
		post("invocation/"+id+"/error", errorTypeExit, `{"errorMessage":"runtime gave up","errorType":"Runtime.ExitError"}`)
		hang()
	case "skip":
		next()
		next()
		hang()
	case "protocol":
		protocol()
	default:
		fmt.Fprintf(os.Stderr, "unknown MODE %q\n", mode)
		os.Exit(2)
	}
}

const errorTypeExit = "Runtime.ExitError"

// protocol answers two events. In the first it posts a response for an
// unknown request ID and then the real one; in the second it reports what
// the API said to that, to a second answer of the first event, and to a
// late /init/error.
func protocol() {
	id, _ := next()
	bogus := post("invocation/not-a-request/response", "", `{}`)
	post("invocation/"+id+"/response", "", `{"first":true}`)
	again := post("invocation/"+id+"/response", "", `{}`)
	againErr := post("invocation/"+id+"/error", "", `{"errorMessage":"late","errorType":"Late"}`)
	lateInit := post("init/error", "", `{"errorMessage":"late","errorType":"Late"}`)
	id, _ = next()
	body, _ := json.Marshal(map[string]int{"bogus": bogus, "again": again, "againError": againErr, "lateInit": lateInit})
	post("invocation/"+id+"/response", "", string(body))
	next()
	hang()
}

func next() (string, []byte) {
	resp, err := http.Get(base + "invocation/next")
	if err != nil {
		fmt.Fprintln(os.Stderr, "next:", err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "next: status", resp.StatusCode)
		os.Exit(1)
	}
	return resp.Header.Get("Lambda-Runtime-Aws-Request-Id"), body
}

func post(path, errorType, body string) int {
	req, err := http.NewRequest(http.MethodPost, base+path, bytes.NewBufferString(body))
	if err != nil {
		os.Exit(1)
	}
	req.Header.Set("Content-Type", "application/json")
	if errorType != "" {
		req.Header.Set("Lambda-Runtime-Function-Error-Type", errorType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "post:", err)
		os.Exit(1)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func hang() {
	for {
		time.Sleep(time.Hour)
	}
}
