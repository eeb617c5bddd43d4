"""Errors a step may raise to say how the engine should take its failure."""


class TransientStepError(Exception):
    """The step could not run now but may later (a provider timed out, a service is down):
    the enrollment stays at the step and tries again with a growing delay."""


# What counts as transient besides the explicit error: the network and its time-outs.
TRANSIENT_ERRORS = (TransientStepError, OSError, TimeoutError)
