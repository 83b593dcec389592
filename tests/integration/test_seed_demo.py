from __future__ import annotations

from sqlalchemy import func, select

from models import Adviser, Library, Role, User


def test_seed_demo_loads_the_ten_kirklees_hubs_and_advisers(runner, db):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    names = set(db.scalars(select(Library.name)))
    assert names == {
        "Huddersfield",
        "Dewsbury",
        "Batley",
        "Cleckheaton",
        "Heckmondwike",
        "Birstall",
        "Ravensthorpe",
        "Almondbury",
        "Holmfirth",
        "Kirkburton",
    }
    advisers = db.scalars(select(Adviser)).all()
    assert 18 <= len(advisers) <= 22
    assert all(a.is_demo for a in advisers)
    assert all(lib.is_demo for lib in db.scalars(select(Library)))
    languages = {lang for a in advisers for lang in a.languages}
    assert {"en-GB", "pl-PL", "ur-PK", "pa-IN"} <= languages
    # Every adviser also takes general enquiries (callers who asked for a person before choosing a topic).
    assert {skill.topic.value for a in advisers for skill in a.skills} == {
        "council_tax",
        "housing_benefit",
        "general",
    }
    assert all(any(skill.topic.value == "general" for skill in a.skills) for a in advisers)


def test_seed_demo_twice_changes_nothing(runner, db):
    runner.invoke(args=["seed-demo"])
    counts = [db.scalar(select(func.count()).select_from(model)) for model in (Library, Adviser, User)]
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert "0 libraries created" in second.output
    assert [
        db.scalar(select(func.count()).select_from(model)) for model in (Library, Adviser, User)
    ] == counts


def test_demo_users_have_argon2_hashes_and_every_role(runner, db):
    runner.invoke(args=["seed-demo"])
    users = db.scalars(select(User)).all()
    assert {u.role for u in users} == {Role.ADVISER, Role.SUPERVISOR, Role.ADMIN}
    assert all(u.password_hash.startswith("$argon2") for u in users)
    assert all(u.is_demo for u in users)


def test_every_demo_library_opens_on_weekdays_and_names_real_neighbours(runner, db):
    runner.invoke(args=["seed-demo"])
    libraries = {lib.name: lib for lib in db.scalars(select(Library))}
    for library in libraries.values():
        assert library.opening_hours["mon"], library.name
        assert library.opening_hours["sun"] == []
        assert set(library.neighbours) <= set(libraries) - {library.name}
