"""An algorithm's state as data: JSON and NumPy arrays, never pickle.

A stored search resumes exactly where it stopped only if its algorithm
(the TPE's or GP's observations and random generator, the GP's
hyperparameters and hedge gains, the genetic population and its step
size, the multi-fidelity brackets and rungs) comes back as it was.  A
pickle would do that, but loading one runs whatever code the file names,
and storage files get shared.  This module writes the state as

- one JSON document: numbers, strings, lists, and tagged forms for what
  JSON lacks (``{"$tuple": [...]}``, ``{"$set": [...]}``, dicts with any
  keys, NumPy scalars, random generators, objects);
- NumPy arrays: those of up to 64 numbers (a candidate's coordinates)
  inside the document, larger ones (the GP's matrices) apart in an
  ``.npz`` archive that is read with ``allow_pickle=False`` (an array of
  objects is refused, not unpickled).

Objects are rebuilt only for the classes in :data:`CLASSES`, sk_hpo's own
ask/tell algorithms and their parts, each of which registers itself
(:func:`register`) with its state schema: ``STATE_FIELDS``, the attributes
its state holds, and ``STATE_FORMAT``, the schema's number, bumped whenever
a field is added, removed or changes meaning.  An object is written as
those fields and its format, and rebuilt by ``cls.__new__`` and those
fields alone: nothing a file says can choose code to run.  A stored object
of another format, or with a field its class does not name, is not read
(:class:`StateError`): the engine then re-tells the stored candidates to a
new algorithm, so no class needs a shim for the states of another version.  What is not data -- the search space (with the user's
``scipy.stats`` distributions) and the functions the algorithm was built
with (``gamma=``) -- is written as a named reference and taken, on
reading, from the freshly built algorithm of the resuming search, which
the stored description of the search's parameters guarantees is built
the same way.  Objects referenced twice come back shared, as pickle
would have them, so that the restored state behaves as the saved one.

``dumps`` raises :class:`StateError` for a value it cannot write (the
engine then stores no state and a resume re-tells the candidates);
``loads`` raises :class:`StateError` for anything that is not this form.
"""

import io
import json
import zipfile

import numpy as np

from ._search_space import Point

FORMAT = 2  # of the document below; bumped when its form changes

# The only classes a document may name: sk_hpo's ask/tell algorithms and
# their parts, each added by ``register`` where it is defined.
CLASSES = {}


def register(cls):
    """Class decorator: let stored states name ``cls`` (an algorithm or a part of one).

    ``cls`` declares its schema: ``STATE_FIELDS``, the names of the
    attributes its state holds (one not set yet, say a model before its
    first fit, is left out), and ``STATE_FORMAT``, an int.
    """
    fields, number = vars(cls).get("STATE_FIELDS"), vars(cls).get("STATE_FORMAT")
    if not isinstance(fields, tuple) or not isinstance(number, int):
        raise TypeError(f"{cls.__name__} declares no STATE_FIELDS tuple and STATE_FORMAT")
    if CLASSES.setdefault(cls.__name__, cls) is not cls:
        raise ValueError(f"two state classes are named {cls.__name__}")
    return cls


BIT_GENERATORS = {
    cls.__name__: cls
    for cls in (
        np.random.PCG64, np.random.PCG64DXSM, np.random.MT19937, np.random.Philox,
        np.random.SFC64,
    )
}  # fmt: skip
_PLAIN = frozenset({int, float, str, bool, type(None)})  # JSON's own values
_INLINE = 64  # arrays of at most this many numbers are written in the document
_ARRAY_KINDS = frozenset("biufcUSMm")  # never "O" (objects) or "V"


class StateError(ValueError):
    """A state that cannot be written as data, or a document that is not one."""


def settings(space, optimizer, prefix="optimizer"):
    """The externals of ``optimizer``'s state: its space and the functions it
    was built with (``gamma=``), which :func:`dumps` refers to by these names
    and :func:`loads` takes from the resuming search's new algorithm; those
    of the algorithms it holds in a list (one per sub-space) too."""
    out = {"space": space} if space is not None else {}
    for name, value in vars(optimizer).items():
        if callable(value) and not isinstance(value, (type, np.random.Generator)):
            out[f"{prefix}.{name}"] = value
        elif isinstance(value, list):
            for i, part in enumerate(value):
                # Parts on a space of their own (sub-spaces); a part on the
                # algorithm's own space needs nothing more.
                if _allowed(part) and getattr(part, "space", optimizer.space) is not optimizer.space:
                    out[f"{prefix}.{name}[{i}].space"] = part.space
                    out.update(settings(None, part, f"{prefix}.{name}[{i}]"))
    return out


def _allowed(value):
    """Whether ``value`` is an object of one of :data:`CLASSES`."""
    return CLASSES.get(type(value).__name__) is type(value)


# -- writing -------------------------------------------------------------------
def dumps(state, externals):
    """``(document, arrays)``: the JSON text of ``state`` and its arrays as ``.npz`` bytes.

    ``externals`` maps names to objects that are not written but referred
    to (the search space, the functions the algorithm was built with).
    """
    writer = _Writer({id(obj): name for name, obj in externals.items()})
    writer.count(state)
    body = writer.write(state)
    document = json.dumps({"format": FORMAT, "state": body}, allow_nan=True)
    buffer = io.BytesIO()
    np.savez(buffer, **{f"a{i}": array for i, array in enumerate(writer.arrays)})
    return document, buffer.getvalue()


class _Writer:
    def __init__(self, externals):
        self.externals = externals
        self.arrays = []
        self.seen = {}  # id -> times referenced, of the objects that can be shared
        self.ids = {}  # id -> reference number, of those referenced more than once
        self.keep = []  # the objects counted, alive until written (ids stay unique)

    @staticmethod
    def _shareable(value):
        return _allowed(value) or isinstance(
            value, (list, dict, set, np.ndarray, np.random.Generator)
        )

    def count(self, value):
        if type(value) in _PLAIN or type(value) is Point or id(value) in self.externals:
            return
        if type(value) is tuple and all(type(item) in _PLAIN for item in value):
            return
        if self._shareable(value):
            self.seen[id(value)] = self.seen.get(id(value), 0) + 1
            if self.seen[id(value)] > 1:
                return
            self.keep.append(value)
        if isinstance(value, dict):
            for key, item in value.items():
                self.count(key)
                self.count(item)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for item in value:
                self.count(item)
        elif _allowed(value):
            self.count(_attributes(value))

    def write(self, value):
        if type(value) in _PLAIN:
            return value
        if type(value) is Point:
            # The bulk of a state (every candidate told); a value, never
            # shared or changed in place, so written without the general walk.
            x = value.x
            if x.dtype.kind != "f" or x.ndim != 1 or type(value.branch) not in _PLAIN:
                raise StateError(f"a point of dtype {x.dtype} is not stored")
            return {"$point": [value.branch, x.dtype.str, x.tolist()]}
        if type(value) is tuple and all(type(item) in _PLAIN for item in value):
            return {"$tuple": list(value)}  # a candidate's key
        if id(value) in self.externals:
            return {"$external": self.externals[id(value)]}
        if isinstance(value, np.generic):
            if value.dtype.kind not in "biuf":
                raise StateError(f"a NumPy scalar of dtype {value.dtype} is not stored")
            return {"$scalar": [value.dtype.str, value.item()]}
        shared = self.seen.get(id(value), 0) > 1
        if shared and id(value) in self.ids:
            return {"$ref": self.ids[id(value)]}
        tagged = self._write_new(value)
        if shared:
            # The number is given before the children are written, and
            # written in front of them, so that a reader can resolve cycles.
            self.ids[id(value)] = len(self.ids)
            tagged = {"$id": self.ids[id(value)], **tagged}
        return self._fill(value, tagged)

    def _write_new(self, value):
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in _ARRAY_KINDS:
                raise StateError(f"an array of dtype {value.dtype} is not stored")
            if value.size <= _INLINE and value.dtype.kind in "biuf":
                # Small arrays (a point's coordinates) in the document: one
                # archive member each made writing a 300-point state 2x slower.
                items = value.ravel().tolist()
                return {"$array": [value.dtype.str, list(value.shape), items]}
            self.arrays.append(value)
            return {"$array": len(self.arrays) - 1}
        if isinstance(value, np.random.Generator):
            bit_generator = value.bit_generator
            name = type(bit_generator).__name__
            if BIT_GENERATORS.get(name) is not type(bit_generator):
                raise StateError(f"a random generator of {name} is not stored")
            return {"$generator": name}
        if type(value) in (tuple, list, set, frozenset, dict):
            return {f"${type(value).__name__}": None}
        if _allowed(value):
            return {"$object": type(value).__name__}
        raise StateError(
            f"a {type(value).__module__}.{type(value).__qualname__} is not stored as data"
        )

    def _fill(self, value, tagged):
        """Write the children of ``value`` into its ``tagged`` form."""
        if "$generator" in tagged:
            tagged["state"] = self.write(value.bit_generator.state)
        elif "$object" in tagged:
            tagged["format"] = type(value).STATE_FORMAT
            tagged["attributes"] = self.write(_attributes(value))
        elif "$dict" in tagged:
            tagged["$dict"] = [[self.write(k), self.write(v)] for k, v in value.items()]
        else:
            for kind in ("$list", "$tuple", "$set", "$frozenset"):
                if kind in tagged:
                    tagged[kind] = [self.write(item) for item in value]
        return tagged


def _attributes(obj):
    """The fields of ``obj``'s state schema that it has."""
    own = vars(obj)
    return {name: own[name] for name in type(obj).STATE_FIELDS if name in own}


# -- reading -------------------------------------------------------------------
def loads(document, arrays, externals):
    """The state written by :func:`dumps`; :class:`StateError` for anything else."""
    try:
        parsed = json.loads(document)
    except (TypeError, ValueError, RecursionError) as exc:
        raise StateError(f"the state is not a JSON document ({_short(exc)})") from None
    if not isinstance(parsed, dict) or set(parsed) != {"format", "state"}:
        raise StateError("the state is not an sk_hpo state document")
    if parsed["format"] != FORMAT:
        raise StateError(
            f"the state is in form {parsed['format']!r}; this sk_hpo reads form {FORMAT}"
        )
    try:
        with np.load(io.BytesIO(arrays), allow_pickle=False) as archive:
            loaded = {name: archive[name] for name in archive.files}
    except (TypeError, ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise StateError(f"the state's arrays are not a NumPy archive ({_short(exc)})") from None
    reader = _Reader(externals, [loaded.get(f"a{i}") for i in range(len(loaded))])
    if set(loaded) != {f"a{i}" for i in range(len(loaded))}:
        raise StateError("the state's arrays are not the ones written")
    try:
        return reader.read(parsed["state"])
    except StateError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, RecursionError) as exc:
        raise StateError(f"the state document is malformed ({_short(exc)})") from None


class _Reader:
    def __init__(self, externals, arrays):
        self.externals = externals
        self.arrays = arrays
        self.refs = {}

    def read(self, value):
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, list):
            raise StateError("an untagged list in the state document")
        if not isinstance(value, dict):
            raise StateError(f"an unexpected {type(value).__name__} in the state document")
        if "$ref" in value:
            ref = value["$ref"]
            if len(value) != 1 or not isinstance(ref, int) or ref not in self.refs:
                raise StateError(f"a reference to an unknown object: {_short(value)}")
            return self.refs[ref]
        if "$external" in value:
            name = value["$external"]
            if len(value) != 1 or not isinstance(name, str) or name not in self.externals:
                raise StateError(f"a reference to an unknown setting: {_short(value)}")
            return self.externals[name]
        if "$scalar" in value:
            dtype, item = value["$scalar"]
            dtype = np.dtype(str(dtype))
            if dtype.kind not in "biuf" or not isinstance(item, (bool, int, float)):
                raise StateError(f"not a NumPy number: {_short(value)}")
            return dtype.type(item)
        ref = value.get("$id")
        if ref is not None and (not isinstance(ref, int) or ref in self.refs):
            raise StateError(f"a bad object number: {_short(ref)}")
        kinds = [key for key in value if key != "$id"]
        kind = kinds[0] if kinds else None
        if kind == "$array" and isinstance(value["$array"], list):
            dtype, shape, items = value["$array"]
            dtype = np.dtype(str(dtype))
            if dtype.kind not in "biuf" or not all(isinstance(n, int) for n in shape):
                raise StateError(f"not a numeric array: {_short(value)}")
            if not all(isinstance(item, (bool, int, float)) for item in items):
                raise StateError(f"not a numeric array: {_short(value)}")
            return self._register(ref, np.array(items, dtype=dtype).reshape(shape))
        if kind == "$array":
            index = value["$array"]
            if not isinstance(index, int) or not 0 <= index < len(self.arrays):
                raise StateError(f"a reference to a missing array: {_short(value)}")
            array = self.arrays[index]
            if array.dtype.kind not in _ARRAY_KINDS:
                raise StateError(f"an array of dtype {array.dtype}")
            return self._register(ref, array.copy())
        if kind == "$list":
            out = self._register(ref, [])
            out.extend(self.read(item) for item in self._items(value[kind]))
            return out
        if kind == "$dict":
            out = self._register(ref, {})
            for pair in self._items(value[kind]):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise StateError("a dict entry that is not a pair")
                out[self.read(pair[0])] = self.read(pair[1])
            return out
        if kind in ("$set", "$frozenset"):
            items = [self.read(item) for item in self._items(value[kind])]
            return self._register(ref, set(items) if kind == "$set" else frozenset(items))
        if kind == "$tuple":
            return tuple(self.read(item) for item in self._items(value[kind]))
        if kind == "$point":
            branch, dtype, x = value["$point"]
            dtype = np.dtype(str(dtype))
            if not isinstance(branch, int) or dtype.kind != "f" or not isinstance(x, list):
                raise StateError(f"not a point: {_short(value)}")
            if not all(isinstance(u, (int, float)) for u in x):
                raise StateError(f"not a point: {_short(value)}")
            return Point(branch, np.array(x, dtype=dtype))
        if kind == "$generator":
            cls = BIT_GENERATORS.get(value["$generator"])
            if cls is None:
                raise StateError(f"an unknown random generator: {_short(value['$generator'])}")
            bit_generator = cls()
            bit_generator.state = self.read(value["state"])
            return self._register(ref, np.random.Generator(bit_generator))
        if kind == "$object":
            cls = CLASSES.get(value["$object"])
            if cls is None:
                raise StateError(
                    f"the state names {_short(value['$object'])}, which is not one of "
                    "sk_hpo's algorithm classes"
                )
            if value.get("format") != cls.STATE_FORMAT:
                raise StateError(
                    f"the state holds a {cls.__name__} of form {_short(value.get('format'))}; "
                    f"this sk_hpo reads form {cls.STATE_FORMAT}"
                )
            obj = self._register(ref, cls.__new__(cls))
            attributes = self.read(value["attributes"])
            if not isinstance(attributes, dict) or not all(isinstance(k, str) for k in attributes):
                raise StateError(f"the attributes of a {cls.__name__} are not named")
            unknown = sorted(set(attributes) - set(cls.STATE_FIELDS))
            if unknown:
                raise StateError(f"a {cls.__name__} has no field {_short(unknown[0])}")
            obj.__dict__.update(attributes)
            return obj
        raise StateError(f"an unknown form in the state document: {_short(value)}")

    @staticmethod
    def _items(items):
        if not isinstance(items, list):
            raise StateError("the items of a container are not a list")
        return items

    def _register(self, ref, obj):
        if ref is not None:
            self.refs[ref] = obj
        return obj


def _short(value, width=80):
    text = repr(value) if not isinstance(value, BaseException) else str(value)
    return text if len(text) <= width else text[: width - 3] + "..."
