"""(issue 17: to be written)"""

from flask import Blueprint

bp = Blueprint("social", __name__)
