import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from bench import REGISTRY, load_all


class Command(BaseCommand):
    help = "Run a benchmark against its baseline; prints one JSON object per line. `bench list` lists them."

    def add_arguments(self, parser):
        parser.add_argument("name", help="benchmark name, or 'list'")
        parser.add_argument("--scale", type=int, help="data size (each benchmark has its default)")
        parser.add_argument(
            "--data", type=Path, metavar="DIR", help="a data set, for the benchmarks that read one"
        )

    def handle(self, *args, name, scale, data, **options):
        load_all()
        if name == "list":
            for bench in REGISTRY.values():
                self.stdout.write(
                    f"{bench.name:<20} default scale {bench.default_scale:>10,}  {bench.description}"
                )
            return
        if name not in REGISTRY:
            raise CommandError(f"unknown benchmark {name!r}; known: {', '.join(sorted(REGISTRY))}")
        if scale is not None and scale < 1:
            raise CommandError("--scale must be at least 1")
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise CommandError("the database has unapplied migrations; run `python manage.py migrate` first")
        bench = REGISTRY[name]
        if data is not None and not bench.reads_data:
            raise CommandError(f"--data: the benchmark {name!r} reads no data set")
        extra = {"data": data} if data is not None else {}
        for line in bench.run(scale or bench.default_scale, **extra):
            self.stdout.write(json.dumps(line))
