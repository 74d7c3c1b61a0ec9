"""Tests of the platform foundation (core/)."""
