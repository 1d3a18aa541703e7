package grid

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/google/uuid"
)

// Account is one user as OpenSim stores it: Hash = md5hex(md5hex(password) + ":" + Salt).
type Account struct {
	First, Last string
	ID          uuid.UUID
	Salt, Hash  string
}

// Name returns "First Last".
func (a *Account) Name() string { return a.First + " " + a.Last }

// Accounts is an in-memory user account table. It is not safe for concurrent use; like every
// core it lives on one event loop.
type Accounts struct {
	byName map[string]*Account
	byID   map[uuid.UUID]*Account
	order  []*Account
}

// NewAccounts returns an empty table.
func NewAccounts() *Accounts {
	return &Accounts{byName: make(map[string]*Account), byID: make(map[uuid.UUID]*Account)}
}

func nameKey(first, last string) string {
	return strings.ToLower(first) + " " + strings.ToLower(last)
}

// MD5Hex returns the lower-case hex MD5 of s, OpenSim's Util.Md5Hash.
func MD5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// RandomUUID draws a version-4 UUID from r.
func RandomUUID(r *rand.Rand) uuid.UUID {
	var u uuid.UUID
	binary.LittleEndian.PutUint64(u[0:8], r.Uint64())
	binary.LittleEndian.PutUint64(u[8:16], r.Uint64())
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}

// Add creates an account with a random ID and salt drawn from r. Names are matched without
// regard to case, as OpenSim does; a name that is already taken is an error.
func (a *Accounts) Add(first, last, password string, r *rand.Rand) (*Account, error) {
	if r == nil {
		return nil, errors.New("grid: Add needs a random source")
	}
	if strings.TrimSpace(first) == "" || strings.TrimSpace(last) == "" {
		return nil, fmt.Errorf("grid: account name %q %q: first and last name are required", first, last)
	}
	if strings.ContainsAny(first+last, " \t\r\n") {
		return nil, fmt.Errorf("grid: account name %q %q: names cannot contain spaces", first, last)
	}
	k := nameKey(first, last)
	if old := a.byName[k]; old != nil {
		return nil, fmt.Errorf("grid: account %s already exists", old.Name())
	}
	id := RandomUUID(r)
	for a.byID[id] != nil || id == uuid.Nil {
		id = RandomUUID(r)
	}
	var raw [16]byte
	binary.LittleEndian.PutUint64(raw[0:8], r.Uint64())
	binary.LittleEndian.PutUint64(raw[8:16], r.Uint64())
	salt := MD5Hex(string(raw[:]))
	acc := &Account{First: first, Last: last, ID: id, Salt: salt, Hash: MD5Hex(MD5Hex(password) + ":" + salt)}
	a.byName[k] = acc
	a.byID[id] = acc
	a.order = append(a.order, acc)
	return acc, nil
}

// Lookup finds an account by name, case-insensitively.
func (a *Accounts) Lookup(first, last string) (*Account, bool) {
	acc, ok := a.byName[nameKey(first, last)]
	return acc, ok
}

// ByID finds an account by its ID.
func (a *Accounts) ByID(id uuid.UUID) (*Account, bool) {
	acc, ok := a.byID[id]
	return acc, ok
}

// Len returns the number of accounts.
func (a *Accounts) Len() int { return len(a.order) }

// All returns the accounts in the order they were added.
func (a *Accounts) All() []*Account { return append([]*Account(nil), a.order...) }

// Authenticate checks a password as a viewer sends it: "$1$" + md5hex(password), or the
// plaintext password, which is hashed first (OpenSim's LLLoginService accepts both).
func (a *Accounts) Authenticate(acc *Account, passwd string) bool {
	if acc == nil {
		return false
	}
	var h string
	if rest, ok := strings.CutPrefix(passwd, "$1$"); ok {
		h = rest
	} else {
		h = MD5Hex(passwd)
	}
	want := MD5Hex(h + ":" + acc.Salt)
	return subtle.ConstantTimeCompare([]byte(want), []byte(acc.Hash)) == 1
}
