"""Photos and other media: checking uploads, deriving public copies, storing bytes."""
