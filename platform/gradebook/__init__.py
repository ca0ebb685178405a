"""The gradebook: what teachers write every lesson and guardians read every evening.

Sub-packages, each with the usual files (models, services, blueprint, templates):
``settings`` (the school's gradebook rules), ``lessons`` (lessons, homework, substitutes),
``attendance`` (marks and excuses), ``grades`` (grades, their history, term and year grades),
``planning`` (the test calendar), ``remarks``, and the views that read across them:
``journal`` (the teacher's group × month grid), ``diary`` (students and guardians) and
``overview`` (class head and director).
"""
