package scenarios

import "embed"

// Files holds the bundled scenarios, so that the binary runs them from any directory.
//
//go:embed *.yaml
var Files embed.FS

// Default is the file name of the scenario `gridlab run` runs when given none.
const Default = "standalone-basic.yaml"
