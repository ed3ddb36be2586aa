"""A Spark job that reviews a book of customers with a Tenet ruleset (docs/spark.md).

    spark-submit --master yarn --files limit_review.rules spark_job.py \\
        limit_review.rules BOOK.parquet DECISIONS_FOLDER 2026-12-15

Every executor needs Tenet installed in its Python (docs/spark.md, "On a real cluster").
"""

import sys

from pyspark.sql import SparkSession

from engine import spark as tenet_spark


def main(ruleset: str, book: str, decisions: str, as_of: str) -> None:
    spark = SparkSession.builder.appName("limit review").getOrCreate()
    result = tenet_spark.run(spark.read.parquet(book), ruleset, as_of=as_of,
                             id_col="customer.customer_id",
                             order_col="customer.customer_id")
    result.decisions.write.mode("overwrite").parquet(decisions)
    summary = result.summary.to_data()
    print(f"{summary['rows']} rows: {summary['decided']} decided, {summary['errors']} errors")


if __name__ == "__main__":
    main(*sys.argv[1:])
