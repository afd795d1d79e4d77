//! Program generators, oracles and shrinking for the differential fuzzer. (stub)
