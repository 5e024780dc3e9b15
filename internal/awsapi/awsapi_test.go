package awsapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// terminated asks EC2's Query API, signed, page by page, and reads the
// instances' states; an error answer is named.
func TestTerminatedThroughTheQueryAPI(t *testing.T) {
	pages := map[string]string{
		"": `<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><reservationSet>
<item><instancesSet><item><instanceId>i-1</instanceId><instanceState><code>48</code><name>terminated</name></instanceState></item>
<item><instanceId>i-2</instanceId><instanceState><code>16</code><name>running</name></instanceState></item></instancesSet></item>
</reservationSet><nextToken>page2</nextToken></DescribeInstancesResponse>`,
		"page2": `<DescribeInstancesResponse><reservationSet><item><instancesSet>
<item><instanceId>i-3</instanceId><instanceState><name>shutting-down</name></instanceState></item></instancesSet></item></reservationSet></DescribeInstancesResponse>`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=testing/") || !strings.Contains(r.Header.Get("Authorization"), "/eu-west-1/ec2/aws4_request") {
			t.Errorf("not signed for ec2 in eu-west-1: %q", r.Header.Get("Authorization"))
		}
		if form.Get("Action") != "DescribeInstances" || form.Get("Filter.1.Name") != "tag:testbed.name" || (form.Get("Filter.1.Value.1") != "tb" && form.Get("Filter.1.Value.1") != "denied") {
			t.Errorf("request %v", form)
		}
		if form.Get("Filter.1.Value.1") == "denied" {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized</Message></Error></Errors></Response>`)
			return
		}
		io.WriteString(w, pages[form.Get("NextToken")])
	}))
	defer srv.Close()
	c, err := New(context.Background(), "eu-west-1", srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.terminated(context.Background(), "tb")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got["i-1"] || !got["i-3"] {
		t.Errorf("terminated: %v, want i-1 and i-3", got)
	}
	if _, err := c.terminated(context.Background(), "denied"); err == nil || !strings.Contains(err.Error(), "403 Forbidden: UnauthorizedOperation: You are not authorized") {
		t.Errorf("an error answer: %v", err)
	}
}
