"""`python -m bzapper_dev.local.moto_server`: moto's server with the DynamoDB corrections installed."""

from __future__ import annotations

import sys

from bzapper_dev.local.moto_fidelity import install


def main() -> None:
    install()
    from moto.server import main as moto_main

    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()
