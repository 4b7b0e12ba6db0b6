"""The systems being checked: model families built from the explorer's model language."""
