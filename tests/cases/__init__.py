"""Tests of the case core (cases/)."""
