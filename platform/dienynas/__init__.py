"""Dienynas app shell: app factory, configuration, extensions, CLI, languages and jobs."""
