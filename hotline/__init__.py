"""hotline: see README.md for what this package will hold."""
