"""The `vislab` command line: a thin front end over the task functions."""
