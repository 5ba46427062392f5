"""Video and image I/O and image grids."""
