"""Service functions: the only code that writes. Each takes a :class:`~frontdesk.uow.UnitOfWork`."""
