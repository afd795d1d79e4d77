//! Comparator tests on hand-made observations.
