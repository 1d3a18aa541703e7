package scenarios

import (
	"errors"
	"io/fs"
	"sort"
)

// Info describes one scenario file.
type Info struct {
	File        string // file name, e.g. standalone-basic.yaml
	Name        string
	Description string
}

// List parses every *.yaml file at the top of fsys and describes each, sorted by file name.
// A file that fails to load is left out of the list and its errors are joined into the error
// returned with the others.
func List(fsys fs.FS) ([]Info, error) {
	files, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var infos []Info
	var errs []error
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s, err := Parse(f, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		infos = append(infos, Info{File: f, Name: s.Name, Description: s.Description})
	}
	return infos, errors.Join(errs...)
}

// Bundled lists the scenarios built into the binary (Files).
func Bundled() ([]Info, error) {
	return List(Files)
}
