//! HTML, JSON and JUnit reports. (stub)
