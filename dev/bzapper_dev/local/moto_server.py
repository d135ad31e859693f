"""`python -m bzapper_dev.local.moto_server`: moto's server with the DynamoDB corrections and the speed-ups
installed (`moto_fidelity`, `moto_speed`)."""

from __future__ import annotations

import sys

from bzapper_dev.local import moto_fidelity, moto_speed


def main() -> None:
    moto_fidelity.install()
    moto_speed.install()
    from moto.server import main as moto_main

    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()
