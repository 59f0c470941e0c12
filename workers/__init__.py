"""Processing steps run as Ray tasks, and the evidence and storage they work on."""
