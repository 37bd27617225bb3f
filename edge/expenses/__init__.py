"""Shop expenses with the audit log (rent, wages, utilities, supplies, other).

Nothing runs at import; build an :class:`ExpenseStore` over the edge database.
"""

from edge.expenses.errors import ExpensesClosedError, ExpensesError, InvalidExpenseError, UnknownExpenseError
from edge.expenses.store import CATEGORY_LABELS, EXPENSE_STEPS, Expense, ExpenseCategory, ExpenseStore

__all__ = [
    "CATEGORY_LABELS", "EXPENSE_STEPS", "Expense", "ExpenseCategory", "ExpenseStore", "ExpensesClosedError",
    "ExpensesError", "InvalidExpenseError", "UnknownExpenseError",
]
