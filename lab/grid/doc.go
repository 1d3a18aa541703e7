// Package grid holds the grid's shared state that the login service and regions consult:
// user accounts stored the way OpenSim stores them (salted double MD5, never the clear
// password) and region definitions parsed from an OpenSim Regions.ini.
//
// Like every core in gridlab it reads no clock and no global RNG: randomness (account IDs,
// salts) comes from the *rand.Rand the caller passes in, and all output is in a stable order.
package grid
