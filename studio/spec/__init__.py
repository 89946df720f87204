"""The parameter spec: Param, Spec, @takes, the value checks, and the inputs tasks share."""
