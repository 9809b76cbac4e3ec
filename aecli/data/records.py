"""Frozen dataclasses kept as JSON objects in checkpoints (the data spec, the data recipe)."""

from dataclasses import asdict, fields


class Record:
    """`to_dict` for the checkpoint, and `built` to read one back: a JSON object of known fields only."""

    what = "record"  # how errors name it

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def json_object(cls, data) -> dict:
        if not isinstance(data, dict):
            raise ValueError(f"the {cls.what} must be a JSON object")
        return dict(data)

    @classmethod
    def built(cls, data: dict):
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown {cls.what} fields: {', '.join(sorted(unknown))}")
        return cls(**data)
