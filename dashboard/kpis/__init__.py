"""Every number on the executive pages, computed from the rollups (never by scanning decisions).

Public functions take the viewer, a `Period` and the departments asked for (None: all the viewer
may see) and return plain data: the pages, the board report and the REST API call the same ones.
One module per concept; callers import from the module that holds what they use:

- `snapshot`: reading the rollups in one consistent snapshot, the viewer's scope, shared helpers
- `violations`: the one definition of a violation
- `tiles`: the overview's tiles
- `trend`: decisions and the main rates per hour or day
- `risk`: risky agents, departments against their risk appetite, the policies that fired
- `value`: spend, cost and value per department or per provider
- `concentration`: each model provider's share of the work
- `routing_shift`: whom routing chose before and since the last strategy change
- `approvals`: the requests waiting for a person now
"""
