package reports

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// Names of the files WriteRunFiles writes into a run's output folder.
const (
	ReportFile    = "report.json"
	CDFFile       = "cdf-login-to-world.svg"
	StageCDFsFile = "stages-cdf.svg"
)

// WriteRunFiles creates dir (like mkdir -p) and writes report.json, the
// login-to-world CDF and the per-stage CDFs into it. It returns the report.
func WriteRunFiles(dir string, r *Run) (*Report, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	rep := Build(r)
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		return nil, fmt.Errorf("reports: encode %s: %w", ReportFile, err)
	}
	if err := os.WriteFile(filepath.Join(dir, ReportFile), buf.Bytes(), 0o644); err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	if err := WriteCDF(r, filepath.Join(dir, CDFFile)); err != nil {
		return nil, err
	}
	if err := WriteStageCDFs(r, filepath.Join(dir, StageCDFsFile)); err != nil {
		return nil, err
	}
	return rep, nil
}
