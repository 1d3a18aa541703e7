package realnet

import (
	"errors"

	"gridlab/lab/grid"
	"gridlab/netem"
)

type gridRegion = grid.RegionConfig

type closeOnly func(err error)

func (closeOnly) OnConnect()          {}
func (closeOnly) OnData([]byte)       {}
func (f closeOnly) OnClose(err error) { f(err) }

func isRefused(err error) bool { return errors.Is(err, netem.ErrRefused) }
