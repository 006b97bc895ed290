package awsemu

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// s3Fixture provisions the test template with an event sink and returns an
// S3 client built from AWSConfig alone (no explicit path-style option).
func s3Fixture(t *testing.T, opts Options) (*Emulators, *s3.Client, *eventSink, string, string, string) {
	t.Helper()
	sink := newEventSink()
	if opts.OnObjectEvent == nil {
		opts.OnObjectEvent = sink.hook
	}
	e, _, env := provisioned(t, testTemplate, nil, opts)
	keyARN, err := env.GetAtt("FilesKey", "Arn")
	if err != nil {
		t.Fatal(err)
	}
	return e, s3.NewFromConfig(e.AWSConfig()), sink, ref(t, env, "UploadsBucket"), ref(t, env, "ArchiveBucket"), keyARN
}

func TestS3PutGetCopyWithSSEKMS(t *testing.T) {
	_, c, sink, uploads, archive, keyARN := s3Fixture(t, Options{})
	ctx := t.Context()
	body := []byte("%PDF-1.7 pretend this is a CV")
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(uploads), Key: aws.String("quarantine/usr_1/cv.pdf"),
		Body:                 bytes.NewReader(body),
		ContentType:          aws.String("application/pdf"),
		ServerSideEncryption: s3types.ServerSideEncryptionAwsKms,
		SSEKMSKeyId:          aws.String(keyARN),
		Metadata:             map[string]string{"owner": "usr_1"},
	}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	put := sink.waitFor(t, EventObjectCreatedPut, uploads, "quarantine/usr_1/cv.pdf")
	if put.ETag != md5hex(body) || put.Size != int64(len(body)) || put.Time.IsZero() {
		t.Errorf("put event = %+v, want ETag %s size %d", put, md5hex(body), len(body))
	}

	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(uploads), Key: aws.String("quarantine/usr_1/cv.pdf")})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	b, _ := io.ReadAll(got.Body)
	_ = got.Body.Close()
	if !bytes.Equal(b, body) || got.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms ||
		aws.ToString(got.SSEKMSKeyId) != keyARN || got.Metadata["owner"] != "usr_1" || aws.ToString(got.ContentType) != "application/pdf" {
		t.Errorf("GetObject = body %q sse %q key %q meta %v type %q", b, got.ServerSideEncryption, aws.ToString(got.SSEKMSKeyId), got.Metadata, aws.ToString(got.ContentType))
	}

	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: aws.String(archive), Key: aws.String("files/fil_1"),
		CopySource:           aws.String(uploads + "/quarantine/usr_1/cv.pdf"),
		MetadataDirective:    s3types.MetadataDirectiveReplace,
		ContentType:          aws.String("application/pdf"),
		ContentDisposition:   aws.String("attachment"),
		ServerSideEncryption: s3types.ServerSideEncryptionAwsKms,
		SSEKMSKeyId:          aws.String(keyARN),
	}); err != nil {
		t.Fatalf("CopyObject: %v", err)
	}
	cp := sink.waitFor(t, EventObjectCreatedCopy, archive, "files/fil_1")
	if cp.ETag != md5hex(body) || cp.Size != int64(len(body)) || cp.VersionID == "" {
		t.Errorf("copy event = %+v, want ETag %s size %d and a version (versioned bucket)", cp, md5hex(body), len(body))
	}
	got, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(archive), Key: aws.String("files/fil_1")})
	if err != nil {
		t.Fatalf("GetObject copy: %v", err)
	}
	b, _ = io.ReadAll(got.Body)
	_ = got.Body.Close()
	if !bytes.Equal(b, body) || aws.ToString(got.ContentDisposition) != "attachment" || got.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms {
		t.Errorf("copy = body %q disposition %q sse %q", b, aws.ToString(got.ContentDisposition), got.ServerSideEncryption)
	}
	if evs := sink.snapshot(); len(evs) != 2 {
		t.Errorf("events = %+v, want exactly the Put and the Copy", evs)
	}
}

func TestS3PresignedPutAndGet(t *testing.T) {
	_, c, sink, uploads, _, _ := s3Fixture(t, Options{})
	ctx := t.Context()
	presign := s3.NewPresignClient(c)
	body := []byte("uploaded by a browser")
	req, err := presign.PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(uploads), Key: aws.String("quarantine/upl_1"), ContentType: aws.String("text/plain"),
	}, s3.WithPresignExpires(5*time.Minute))
	if err != nil {
		t.Fatalf("PresignPutObject: %v", err)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header = req.SignedHeader.Clone()
	hr.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatalf("presigned PUT: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("presigned PUT status %d", resp.StatusCode)
	}
	ev := sink.waitFor(t, EventObjectCreatedPut, uploads, "quarantine/upl_1")
	if ev.Size != int64(len(body)) || ev.ETag != md5hex(body) {
		t.Errorf("presigned put event %+v", ev)
	}

	get, err := presign.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(uploads), Key: aws.String("quarantine/upl_1"), ResponseContentDisposition: aws.String("attachment"),
	})
	if err != nil {
		t.Fatal(err)
	}
	gr, err := http.NewRequestWithContext(ctx, http.MethodGet, get.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.DefaultClient.Do(gr)
	if err != nil {
		t.Fatalf("presigned GET: %v", err)
	}
	got, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) || resp.Header.Get("Content-Disposition") != "attachment" {
		t.Errorf("presigned GET = %d %q disposition %q", resp.StatusCode, got, resp.Header.Get("Content-Disposition"))
	}
}

func TestS3DeleteEvents(t *testing.T) {
	_, c, sink, uploads, _, _ := s3Fixture(t, Options{})
	ctx := t.Context()
	for _, k := range []string{"a", "b", "c"} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(uploads), Key: aws.String(k), Body: bytes.NewReader([]byte(k))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(uploads), Key: aws.String("a")}); err != nil {
		t.Fatal(err)
	}
	sink.waitFor(t, EventObjectRemovedDelete, uploads, "a")
	if _, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(uploads), Delete: &s3types.Delete{
		Objects: []s3types.ObjectIdentifier{{Key: aws.String("b")}, {Key: aws.String("c")}, {Key: aws.String("never-existed")}},
	}}); err != nil {
		t.Fatalf("DeleteObjects: %v", err)
	}
	sink.waitFor(t, EventObjectRemovedDelete, uploads, "b")
	sink.waitFor(t, EventObjectRemovedDelete, uploads, "c")
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(uploads), Key: aws.String("missing")}); err != nil {
		t.Fatal(err)
	}
	// Events arrive in order: once the marker's is in, any for the missing
	// keys would have been too.
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(uploads), Key: aws.String("marker"), Body: bytes.NewReader(nil)}); err != nil {
		t.Fatal(err)
	}
	sink.waitFor(t, EventObjectCreatedPut, uploads, "marker")
	for _, ev := range sink.snapshot() {
		if ev.Key == "missing" || ev.Key == "never-existed" {
			t.Errorf("event for an object that never existed: %+v", ev)
		}
	}
}

func TestS3MultipartAndPostEvents(t *testing.T) {
	e, c, sink, uploads, _, _ := s3Fixture(t, Options{})
	ctx := t.Context()

	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(uploads), Key: aws.String("big")})
	if err != nil {
		t.Fatal(err)
	}
	var parts []s3types.CompletedPart
	var whole []byte
	for i, chunk := range []string{"part one;", "part two"} {
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(uploads), Key: aws.String("big"), UploadId: mp.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader([]byte(chunk)),
		})
		if err != nil {
			t.Fatalf("UploadPart: %v", err)
		}
		parts = append(parts, s3types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i + 1))})
		whole = append(whole, chunk...)
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(uploads), Key: aws.String("big"), UploadId: mp.UploadId,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts},
	}); err != nil {
		t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	if ev := sink.waitFor(t, EventObjectCreatedMultipart, uploads, "big"); ev.Size != int64(len(whole)) {
		t.Errorf("multipart event size %d, want %d", ev.Size, len(whole))
	}

	// A browser form POST, with a form field trying to pass for the front's
	// marker: the event must still say Post.
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	_ = mw.WriteField("key", "quarantine/form-upload")
	_ = mw.WriteField(opHeader, EventObjectCreatedCopy+" forged-nonce")
	fw, _ := mw.CreateFormFile("file", "x.txt")
	_, _ = fw.Write([]byte("posted"))
	_ = mw.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.Endpoints().S3+"/"+uploads, &form)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("form POST status %d", resp.StatusCode)
	}
	if ev := sink.waitFor(t, EventObjectCreatedPost, uploads, "quarantine/form-upload"); ev.Size != int64(len("posted")) {
		t.Errorf("post event %+v", ev)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(uploads), Key: aws.String("quarantine/form-upload")})
	if err != nil {
		t.Fatal(err)
	}
	for k := range head.Metadata {
		if strings.Contains(strings.ToLower(k), "awsemu") {
			t.Errorf("internal marker leaked into stored metadata: %v", head.Metadata)
		}
	}
}

func TestS3TaggingIsRefused(t *testing.T) {
	_, c, _, uploads, _, _ := s3Fixture(t, Options{})
	ctx := t.Context()
	body := []byte("must survive tagging")
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(uploads), Key: aws.String("k"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{
		Bucket: aws.String(uploads), Key: aws.String("k"),
		Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("scan"), Value: aws.String("clean")}}},
	})
	if code := errorCode(err); code != "NotImplemented" {
		t.Fatalf("PutObjectTagging error code = %q, want NotImplemented", code)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(uploads), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out.Body)
	_ = out.Body.Close()
	if !bytes.Equal(got, body) {
		t.Fatalf("object body after refused tagging = %q, want %q", got, body)
	}
}

// TestS3HookMayCallS3 is the scan trigger's shape: the hook reads the
// object it was told about, from inside the hook.
func TestS3HookMayCallS3(t *testing.T) {
	var client *s3.Client
	read := make(chan string, 1)
	hook := func(ev ObjectEvent) {
		out, err := client.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(ev.Bucket), Key: aws.String(ev.Key)})
		if err != nil {
			read <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(out.Body)
		_ = out.Body.Close()
		read <- string(b)
	}
	e, _, env := provisioned(t, testTemplate, nil, Options{OnObjectEvent: hook})
	client = e.Clients().S3
	if _, err := client.PutObject(t.Context(), &s3.PutObjectInput{
		Bucket: aws.String(ref(t, env, "UploadsBucket")), Key: aws.String("scan-me"), Body: bytes.NewReader([]byte("content")),
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-read:
		if got != "content" {
			t.Fatalf("hook read %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("hook did not complete")
	}
}

func TestS3Middleware(t *testing.T) {
	var seen []string
	deny := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen = append(seen, "outer")
			if r.Header.Get("X-Test-Deny") != "" {
				writeS3Error(w, r, http.StatusForbidden, "AccessDenied", "denied by policy")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	inner := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen = append(seen, "inner")
			next.ServeHTTP(w, r)
		})
	}
	e := start(t, Options{S3Middleware: []func(http.Handler) http.Handler{deny, inner}})
	for _, tc := range []struct {
		name   string
		deny   bool
		status int
		seen   string
	}{
		{"passes through in order", false, http.StatusOK, "outer,inner"},
		{"outer middleware answers", true, http.StatusForbidden, "outer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen = nil
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.Endpoints().S3+"/", nil)
			if tc.deny {
				req.Header.Set("X-Test-Deny", "1")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != tc.status || strings.Join(seen, ",") != tc.seen {
				t.Fatalf("status %d seen %v, want %d %s", resp.StatusCode, seen, tc.status, tc.seen)
			}
		})
	}
}
