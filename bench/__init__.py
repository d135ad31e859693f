"""bzapper's benchmark harness: `make bench` (or `python -m bench`).

Every figure is measured in one run, on this machine, side by side with its floor. Nothing here is a
test: no assertion on time anywhere. Sections that measure something not built yet print
"n/a (not built yet)" and keep their place in the table and in results.json, so the capability that
lands later plugs its measurement into the same row.
"""
