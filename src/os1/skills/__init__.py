"""Skills: what the OS does besides talking (the date and time, lists, notes…), registered as plugins are."""
