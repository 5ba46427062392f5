"""Great Expectations at stage boundaries (see ``gx.validate_frame``)."""
