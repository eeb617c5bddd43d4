def adopt(target, saved) -> None:
    """Make the admin's unsaved instance the row a service just created, so that the
    admin's own follow-up (related objects, log entry, redirect) sees a saved object."""
    target.__dict__.update(saved.__dict__)
