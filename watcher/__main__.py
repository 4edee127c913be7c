from watcher.cli.main import console

console()
