package provider

import (
	"bytes"
	"io"
	"net/http"
)

// emulatorProxy forwards every request to an emulator and lets a test see
// what passes: onRequest gets each request with its body, and onAnswer
// each answer's body, returning what the provider receives instead.
type emulatorProxy struct {
	target    string
	onRequest func(r *http.Request, body []byte)
	onAnswer  func(r *http.Request, answer []byte) []byte
}

func (p *emulatorProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if p.onRequest != nil {
		p.onRequest(r, body)
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
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
	if p.onAnswer != nil {
		answer = p.onAnswer(r, answer)
	}
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}
