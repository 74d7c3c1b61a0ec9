"""Organisation and places: departments (a tree), grids (单元网格), inspector assignments."""
