"""Tests of cityloop: they mirror the packages."""
