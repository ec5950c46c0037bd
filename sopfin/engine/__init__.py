"""The money maths: dollarize, the summary against budget, the price/volume/mix bridge,
working capital, and stranded and excess stock."""
