"""Programs run on the computer of a job: the command lines of the embedded reference engines (tblite, CHGNet,
SevenNet)."""
