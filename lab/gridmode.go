package lab

import "gridlab/lab/viewer"

// diagnoseGrid diagnoses the failures only grid mode has (grid-link-failure, region-down-fallback).
func (w *world) diagnoseGrid(v *viewer.Viewer) (diagnosis, bool) {
	return diagnosis{}, false
}
