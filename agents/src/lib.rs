//! Agents (being built).
