package grid

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"gopkg.in/ini.v1"
)

// RegionConfig is one [Region] section of an OpenSim Regions.ini.
type RegionConfig struct {
	Name                string // the section name, case kept
	ID                  uuid.UUID
	X, Y                uint32 // Location, in grid units (regions of 256 m)
	InternalAddress     netip.Addr
	InternalPort        uint16 // the region's UDP port; also sim_port in the login reply
	AllowAlternatePorts bool
	ExternalHostName    string // as written; may be "SYSTEMIP"
	MaxAgents           int
	SizeX, SizeY        uint32 // metres; 256 unless given (var regions: multiples of 256)
}

// Defaults OpenSim applies when a key is absent.
const (
	DefaultInternalAddress  = "0.0.0.0"
	DefaultExternalHostName = "SYSTEMIP"
	DefaultMaxAgents        = 100
	DefaultRegionSize       = 256
)

// loadOptions make gopkg.in/ini.v1 read a Regions.ini the way OpenSim's Nini does: section and
// key case kept, `#` and `;` start a comment only at the start of a line or after whitespace
// (so `Password = a#b` keeps its value), no backslash continuation lines, and repeated sections
// kept apart so that a duplicate region can be reported instead of silently merged.
var loadOptions = ini.LoadOptions{
	SpaceBeforeInlineComment: true,
	IgnoreContinuation:       true,
	AllowNonUniqueSections:   true,
}

// regionKeys are the keys read, in the order they are checked.
var regionKeys = []string{
	"RegionUUID", "Location", "InternalAddress", "InternalPort", "AllowAlternatePorts",
	"ExternalHostName", "MaxAgents", "SizeX", "SizeY",
}

// ParseRegionsINI parses a Regions.ini; name (usually the file name) prefixes every error, e.g.
// `Regions.ini: [My Region] InternalPort: "90x0" is not a port number`. Regions come back in
// file order. RegionUUID, Location and InternalPort are required; key names are matched
// without regard to case; unknown keys are ignored, as OpenSim does.
func ParseRegionsINI(name string, data []byte) ([]RegionConfig, error) {
	f, err := ini.LoadSources(loadOptions, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	var out []RegionConfig
	seenName := map[string]bool{}
	seenID := map[uuid.UUID]string{}
	for _, sec := range f.Sections() {
		if sec.Name() == ini.DefaultSection {
			if keys := sec.Keys(); len(keys) > 0 {
				return nil, fmt.Errorf("%s: key %q is outside any [Region] section", name, keys[0].Name())
			}
			continue
		}
		rc, err := parseRegion(sec)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		lname := strings.ToLower(rc.Name)
		if seenName[lname] {
			return nil, fmt.Errorf("%s: [%s]: region name is used twice", name, rc.Name)
		}
		seenName[lname] = true
		if other, ok := seenID[rc.ID]; ok {
			return nil, fmt.Errorf("%s: [%s] RegionUUID: %s is already used by [%s]", name, rc.Name, rc.ID, other)
		}
		seenID[rc.ID] = rc.Name
		for _, o := range out {
			if overlaps(rc, o) {
				return nil, fmt.Errorf("%s: [%s] Location: %d,%d overlaps [%s] at %d,%d", name, rc.Name, rc.X, rc.Y, o.Name, o.X, o.Y)
			}
		}
		out = append(out, rc)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no regions defined", name)
	}
	return out, nil
}

func overlaps(a, b RegionConfig) bool {
	ax0, ay0 := uint64(a.X)*256, uint64(a.Y)*256
	bx0, by0 := uint64(b.X)*256, uint64(b.Y)*256
	return ax0 < bx0+uint64(b.SizeX) && bx0 < ax0+uint64(a.SizeX) &&
		ay0 < by0+uint64(b.SizeY) && by0 < ay0+uint64(a.SizeY)
}

// lookup finds a key case-insensitively; the last one written wins.
func lookup(sec *ini.Section, key string) (string, bool) {
	var v string
	found := false
	for _, k := range sec.Keys() {
		if strings.EqualFold(k.Name(), key) {
			v, found = strings.TrimSpace(k.Value()), true
		}
	}
	return v, found
}

func parseRegion(sec *ini.Section) (RegionConfig, error) {
	rc := RegionConfig{
		Name:             sec.Name(),
		InternalAddress:  netip.MustParseAddr(DefaultInternalAddress),
		ExternalHostName: DefaultExternalHostName,
		MaxAgents:        DefaultMaxAgents,
		SizeX:            DefaultRegionSize,
		SizeY:            DefaultRegionSize,
	}
	bad := func(key, v, why string) error {
		return fmt.Errorf("[%s] %s: %q %s", rc.Name, key, v, why)
	}
	if strings.TrimSpace(rc.Name) == "" {
		return rc, fmt.Errorf("[%s]: the region name is empty", rc.Name)
	}
	for _, key := range regionKeys {
		v, ok := lookup(sec, key)
		if !ok {
			switch key {
			case "RegionUUID", "Location", "InternalPort":
				return rc, fmt.Errorf("[%s] %s: missing (required)", rc.Name, key)
			}
			continue
		}
		switch key {
		case "RegionUUID":
			id, err := uuid.Parse(v)
			if err != nil || len(v) != 36 {
				return rc, bad(key, v, "is not a UUID")
			}
			if id == uuid.Nil {
				return rc, bad(key, v, "is the null UUID")
			}
			rc.ID = id
		case "Location":
			xs, ys, ok := strings.Cut(v, ",")
			x, err1 := strconv.ParseUint(strings.TrimSpace(xs), 10, 32)
			y, err2 := strconv.ParseUint(strings.TrimSpace(ys), 10, 32)
			if !ok || err1 != nil || err2 != nil {
				return rc, bad(key, v, "is not x,y grid coordinates")
			}
			if x >= 1<<24 || y >= 1<<24 {
				return rc, bad(key, v, "is outside the grid (coordinates must be below 16777216)")
			}
			rc.X, rc.Y = uint32(x), uint32(y)
		case "InternalAddress":
			a, err := netip.ParseAddr(v)
			if err != nil {
				return rc, bad(key, v, "is not an IP address")
			}
			rc.InternalAddress = a
		case "InternalPort":
			p, err := strconv.ParseUint(v, 10, 16)
			if err != nil || p == 0 {
				return rc, bad(key, v, "is not a port number")
			}
			rc.InternalPort = uint16(p)
		case "AllowAlternatePorts":
			b, ok := parseBool(v)
			if !ok {
				return rc, bad(key, v, "is not True or False")
			}
			rc.AllowAlternatePorts = b
		case "ExternalHostName":
			if v == "" {
				return rc, bad(key, v, "is empty (use SYSTEMIP, a host name or an IP address)")
			}
			rc.ExternalHostName = v
		case "MaxAgents":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return rc, bad(key, v, "is not a positive number")
			}
			rc.MaxAgents = n
		case "SizeX", "SizeY":
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil || n == 0 || n%256 != 0 || n > 1<<16 {
				return rc, bad(key, v, "is not a region size (a multiple of 256 metres, at most 65536)")
			}
			if key == "SizeX" {
				rc.SizeX = uint32(n)
			} else {
				rc.SizeY = uint32(n)
			}
		}
	}
	return rc, nil
}

func parseBool(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "true", "yes", "1", "on":
		return true, true
	case "false", "no", "0", "off":
		return false, true
	}
	return false, false
}
