import sys

from tillpi_demo.shop import main

sys.exit(main(sys.argv[1:]))
