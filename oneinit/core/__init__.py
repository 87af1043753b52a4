"""The framework-free core: numpy (>= 1.23) and the standard library only.

- :mod:`.fans`: layouts and fans from explicit axes, and each framework's own fan rule.
- :mod:`.gains`: ``calculate_gain`` (torch's table plus numeric gains).
- :mod:`.random`: the portable counter-based generator (Philox4x32-10) and its float transforms.
- :mod:`.structured`: orthogonal, delta-orthogonal, identity, dirac, sparse, bilinear.
- :mod:`.schemes`: the scheme specs adapters turn into native initializers.
"""
