from classmood.cli import main

main()
