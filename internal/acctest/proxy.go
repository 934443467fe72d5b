package acctest

import (
	"bytes"
	"io"
	"net/http"
)

// EmulatorProxy forwards every request to an emulator and lets a test see
// what passes: OnRequest gets each request with its body, and OnAnswer
// each answer's body, returning what the provider receives instead.
type EmulatorProxy struct {
	Target    string
	OnRequest func(r *http.Request, body []byte)
	OnAnswer  func(r *http.Request, answer []byte) []byte
}

func (p *EmulatorProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if p.OnRequest != nil {
		p.OnRequest(r, body)
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, p.Target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	out.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if p.OnAnswer != nil {
		answer = p.OnAnswer(r, answer)
	}
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}
