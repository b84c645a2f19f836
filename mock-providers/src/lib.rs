//! Mock providers (being built).
