"""The school year's archive: the whole gradebook of a year as one ZIP file (seeds 000–002: the
administrator hands the year's diary over on digital media at its end)."""
