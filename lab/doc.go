// Package lab assembles a world from a scenario — the virtual network (netem), the grid under
// test (login service and regions), and the synthetic viewers — runs it on the deterministic
// kernel (sim), diagnoses each failed viewer, and hands the results to reports.
//
// Dependency direction: lab imports sim, netem, scenarios, reports and its own subpackages;
// nothing below it imports lab.
package lab
